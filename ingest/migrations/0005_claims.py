from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ingest', '0004_archive'),
    ]

    operations = [
        migrations.AddField(
            model_name='archive',
            name='claimed_by',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='archive',
            name='lease_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='document',
            name='claimed_by',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='document',
            name='lease_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
